import { Module } from '@nestjs/common';
import { RolesModule } from '../roles/roles.module';
import { MeController } from './me.controller';
import { UsersController } from './users.controller';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

@Module({
  imports: [RolesModule],
  controllers: [UsersController, MeController],
  providers: [UsersRepository, UsersService],
})
export class UsersModule {}
