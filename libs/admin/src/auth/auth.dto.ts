import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

export class SignupDto {
  @ApiProperty({ format: 'email', maxLength: 254, example: 'me@example.com' })
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @ApiProperty({ minLength: 8, maxLength: 256, format: 'password' })
  @IsString()
  @MinLength(8)
  @MaxLength(256)
  password!: string;

  @ApiPropertyOptional({ maxLength: 200, description: 'Your name; also the name of the new tenant.' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string;
}

export class LoginDto {
  @ApiProperty({ format: 'email', maxLength: 254 })
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @ApiProperty({ maxLength: 256, format: 'password' })
  @IsString()
  @MaxLength(256)
  password!: string;
}

export class ChangePasswordDto {
  @ApiProperty({ maxLength: 256, format: 'password' })
  @IsString()
  @MaxLength(256)
  current_password!: string;

  @ApiProperty({ minLength: 8, maxLength: 256, format: 'password' })
  @IsString()
  @MinLength(8)
  @MaxLength(256)
  new_password!: string;
}

export class TokenView {
  @ApiProperty({ description: 'JWT for `Authorization: Bearer` on /api.' })
  token!: string;
}
