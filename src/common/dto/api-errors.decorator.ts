import { ApiResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from './error-response.dto';

/** What a response with this error message looks like, for the examples of the API docs. */
function exampleOf(error: string): ErrorResponseDto {
  if (error === 'Validation failed') {
    return { success: false, error, details: [{ field: 'name', message: 'name must be a string' }] };
  }
  if (error === 'Invalid cron expression') return { success: false, error, details: 'expected 5 fields, got 6' };
  if (error === 'Forbidden') return { success: false, error, details: 'Missing permission: tasks:write' };
  return { success: false, error };
}

/** A status in the error envelope, with one example per error message the route can give. */
export const ApiErrors = (status: number, ...errors: [string, ...string[]]) =>
  ApiResponse({
    status,
    type: ErrorResponseDto,
    description: errors.join(', or '),
    examples: Object.fromEntries(errors.map((error) => [error, { summary: error, value: exampleOf(error) }])),
  });
