import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

export const ROLES = ['owner', 'admin', 'developer', 'billing', 'viewer'] as const;
export type RoleName = (typeof ROLES)[number];

export class InviteMemberDto {
  @ApiProperty({ format: 'email', maxLength: 254 })
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @ApiProperty({ enum: ROLES, description: 'owner/admin: members and keys; developer: keys and routing; billing: billing; viewer: read only. Only owners grant owner.' })
  @IsIn(ROLES)
  role!: RoleName;
}

export class UpdateMemberDto {
  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: RoleName;
}

export class AcceptInviteDto {
  @ApiProperty({ minLength: 8, maxLength: 256, format: 'password' })
  @IsString()
  @MinLength(8)
  @MaxLength(256)
  password!: string;

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string;
}

export class MemberView {
  @ApiProperty() id!: string;
  @ApiProperty() email!: string;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
  @ApiProperty({ enum: ROLES }) role!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export class InviteView {
  @ApiProperty() id!: string;
  @ApiProperty() email!: string;
  @ApiProperty({ enum: ROLES }) role!: string;
  @ApiProperty({ enum: ['pending', 'accepted', 'expired'] }) status!: string;
  @ApiProperty({ format: 'date-time' }) expires_at!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export class MemberListView {
  @ApiProperty({ type: [MemberView] }) data!: MemberView[];
  @ApiProperty({ type: String, nullable: true }) next_cursor!: string | null;
}

export class InviteListView {
  @ApiProperty({ type: [InviteView] }) data!: InviteView[];
  @ApiProperty({ type: String, nullable: true }) next_cursor!: string | null;
}

export class DeletedView {
  @ApiProperty() id!: string;
  @ApiProperty() deleted!: boolean;
}
