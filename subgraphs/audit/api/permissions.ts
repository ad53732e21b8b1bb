import { isAdmin } from '../../../foundation/graphql/permissions.js';

/** auditPermissions are the contract's "Who may do what" for audit: admins only, field by field. */
export const auditPermissions = {
  Query: { auditEvents: isAdmin },
  AuditEvent: isAdmin,
  AuditEventConnection: isAdmin,
  AuditEventEdge: isAdmin,
  PageInfo: isAdmin,
  User: isAdmin,
};
