import { BadRequestException, ParseUUIDPipe } from '@nestjs/common';

/** Path `{id}` parameters: anything but a UUID is a 400 naming the parameter, not a 500 or 404. */
export const uuidParam = (name = 'id'): ParseUUIDPipe =>
  new ParseUUIDPipe({ exceptionFactory: () => new BadRequestException(`${name} must be a UUID`) });
