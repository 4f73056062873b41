import { applyDecorators } from '@nestjs/common';
import { ApiBadRequestResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from './error-response.dto';

/** A 400 in the error envelope, naming the errors a route can give. */
export const ApiBadRequest = (description: string) =>
  applyDecorators(ApiBadRequestResponse({ type: ErrorResponseDto, description }));
