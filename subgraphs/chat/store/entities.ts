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

  @Column('bigint', { name: 'last_position' })
  lastPosition!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;
}

/** MessageRow is a row of `messages`. */
@Entity({ name: 'messages' })
export class MessageRow {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'conversation_id' })
  conversationId!: string;

  @Column('bigint')
  position!: string;

  @Column('uuid', { name: 'sender_id' })
  senderId!: string;

  @Column('text')
  body!: string;

  @CreateDateColumn({ name: 'sent_at', type: 'timestamptz', precision: 3 })
  sentAt!: Date;
}
