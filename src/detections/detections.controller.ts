import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiTags } from '@nestjs/swagger';
import { Auth } from '../auth/auth.decorator';
import { ErrorBody } from '../common/errors/error-body.dto';
import { DetectionPageDto, DetectionQuery } from './dto/detection.dto';
import { DetectionsService } from './detections.service';

@ApiTags('Detections')
@Controller('api/v1/detections')
@Auth('detections.read')
export class DetectionsController {
  constructor(private readonly detections: DetectionsService) {}

  /**
   * Detection events (retro-scan included), most recently recorded first.
   *
   * @remarks Every filter is optional and they combine with AND. Events are written in batches:
   * a search appears here within 5 s.
   */
  @Get()
  @ApiBadRequestResponse({
    description: 'Invalid filter, cursor or unknown parameter',
    type: ErrorBody,
  })
  list(@Query() q: DetectionQuery): Promise<DetectionPageDto> {
    const { from, to, supplier, principal, value } = q;
    return this.detections.list(
      {
        from: from ? new Date(from) : undefined,
        to: to ? new Date(to) : undefined,
        supplier,
        principal,
        value,
      },
      q.limit,
      q.cursor,
    );
  }
}
