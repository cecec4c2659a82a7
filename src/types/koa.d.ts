import 'koa';

declare module 'koa' {
  interface Request {
    /** Set by our form parser or by the token-endpoint pre-parser. */
    body?: unknown;
  }
}
