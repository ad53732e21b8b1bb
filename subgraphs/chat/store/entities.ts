import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** ConversationRow is a row of `conversations`. */
@Entity({ name: 'conversations' })
export class ConversationRow {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'order_id' })
  orderId!: string;

  @Column('uuid', { name: 'customer_id' })
  customerId!: string;

  @Column('uuid', { name: 'provider_id' })
  providerId!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
