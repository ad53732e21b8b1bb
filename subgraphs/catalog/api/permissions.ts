import { allow } from '../../../foundation/graphql/shield.js';
import { hasRole, isAdmin } from '../../../foundation/graphql/permissions.js';

/**
 * catalogPermissions are the contract's "Who may do what" for catalog: browsing is open, admins create, providers
 * manage their skills.
 */
export const catalogPermissions = {
  Query: { categories: allow, services: allow },
  Mutation: {
    createCategory: isAdmin,
    createService: isAdmin,
    addSkill: hasRole('PROVIDER'),
    removeSkill: hasRole('PROVIDER'),
  },
  Category: allow,
  Service: allow,
  User: allow,
};
