import type { MigrationClass } from '../../foundation/postgres/database.js';
import { CreateCatalog1732300000000 } from './1732300000000-create-catalog.js';
import { Skills1732400000000 } from './1732400000000-skills.js';
import { SkillsByService1764547200000 } from './1764547200000-skills-by-service.js';
import { ServicesAndCategoriesNeverChange1764633600000 } from './1764633600000-services-and-categories-never-change.js';
import { CatalogEvents1764806400000 } from './1764806400000-catalog-events.js';
import { CatalogEventsPruned1764892800000 } from './1764892800000-catalog-events-pruned.js';

/** catalogMigrations lists the catalog database's migrations in the order they run. */
export const catalogMigrations: MigrationClass[] = [
  CreateCatalog1732300000000,
  Skills1732400000000,
  SkillsByService1764547200000,
  ServicesAndCategoriesNeverChange1764633600000,
  CatalogEvents1764806400000,
  CatalogEventsPruned1764892800000,
];
