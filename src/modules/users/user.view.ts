import { Type, type Static } from '@sinclair/typebox';
import type { UserRow } from './user.repository.js';

export const UserRoleSchema = Type.Union([
  Type.Literal('user'),
  Type.Literal('organizer'),
  Type.Literal('admin'),
]);

export const UserSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  name: Type.String(),
  role: UserRoleSchema,
  createdAt: Type.String({ format: 'date-time' }),
});

export const AdminUserSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  name: Type.String(),
  role: UserRoleSchema,
  disabled: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export type UserView = Static<typeof UserSchema>;
export type AdminUserView = Static<typeof AdminUserSchema>;

export function toUserView(row: UserRow): UserView {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    createdAt: row.created_at.toISOString(),
  };
}

export function toAdminUserView(row: UserRow): AdminUserView {
  return {
    ...toUserView(row),
    disabled: row.disabled,
    updatedAt: row.updated_at.toISOString(),
  };
}
