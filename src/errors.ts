/**
 * InputError: a problem with what the user asked for (an unknown name, a value out of range), as
 * opposed to a bug. Its message is one line that names the field and the allowed values; the CLI
 * prints it and exits with status 2.
 */
export class InputError extends Error {
  override name = 'InputError';
}
