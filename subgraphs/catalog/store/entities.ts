import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** CategoryRow is a row of `categories`. */
@Entity({ name: 'categories' })
export class CategoryRow {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text')
  name!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

/** ServiceRow is a row of `services`. */
@Entity({ name: 'services' })
export class ServiceRow {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'category_id' })
  categoryId!: string;

  @Column('text')
  name!: string;

  @Column('text')
  description!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
