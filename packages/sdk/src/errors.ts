/**
 * Error classes thrown by the SDK. Their `message` is the exact Flashphoner
 * text (see `ERROR_INFO`), and their `name` stays `"Error"` / `"TypeError"`
 * like the original SDK's, so code that checks either keeps working; use
 * `instanceof` to tell them apart.
 *
 * @packageDocumentation
 */

/** A method was called in a state that does not allow it ("Invalid session state", "Invalid stream state"). */
export class InvalidStateError extends Error {}

/** `init()` has not been called ("Flashphoner API is not initialized"). */
export class NotInitializedError extends Error {}

/** A required option is missing ("options.urlServer must be provided", "options.name must be provided"). */
export class MissingOptionError extends TypeError {}

/** A request could not be served: session gone, server refusal, or a feature the server lacks. */
export class RequestError extends Error {}
