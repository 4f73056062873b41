import { Transform } from 'class-transformer';
import { ValidateIf } from 'class-validator';

/** Like `@IsOptional()`, but an explicit `null` is still validated (and so rejected). */
export const IsOptionalNotNull = () => ValidateIf((_object, value) => value !== undefined);

/** Query strings: 'true' / 'false' only; anything else stays a string and fails `@IsBoolean`. */
export const QueryBoolean = () =>
  Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value));

/** Query strings: decimal integers only; anything else stays a string and fails `@IsInt`. */
export const QueryInt = () =>
  Transform(({ value }) => (typeof value === 'string' && /^-?\d{1,10}$/.test(value) ? Number(value) : value));
