/** The ARBridge service the cards call. `npm run hs:build -- --base-url URL` writes this file into the upload tree. */
export const SERVICE_BASE_URL = 'https://arbridge.example.com';
