import { allow } from 'graphql-shield';

/** catalogPermissions are the contract's "Who may do what" for catalog: browsing is open to anyone. */
export const catalogPermissions = {
  Query: { categories: allow, services: allow },
  Category: allow,
  Service: allow,
};
