/** What other modules may read from the surfaces module: the instance's own documents. */
export { sellerOnboardingText, skillText } from './documents.ts';
