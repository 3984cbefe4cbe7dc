import { AppError, recover } from '../../shared/app-error.ts';

export const HumanErrors = {
  // One answer for an unknown email and a wrong password, so sign-in reveals no accounts.
  signInFailed: () =>
    new AppError(401, 'SIGN_IN_FAILED', 'Email or password is wrong.', {
      recovery: recover.fixRequest('Check the email and password, or sign up.'),
    }),
  emailTaken: () =>
    new AppError(409, 'EMAIL_TAKEN', 'An account with this email already exists.', {
      recovery: recover.action('sign_in', 'Sign in with POST /api/v1/humans/signin instead.'),
    }),
  setupTokenInvalid: () =>
    new AppError(403, 'SETUP_TOKEN_INVALID', 'The setup token is wrong, already used, or an admin already exists.', {
      recovery: recover.action('stop', 'Use the setup URL from the server log of this run, or `crochet admin create`.'),
    }),
};
