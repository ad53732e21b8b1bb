import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** OrderRow is a row of `orders`. */
@Entity({ name: 'orders' })
export class OrderRow {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'customer_id' })
  customerId!: string;

  @Column('uuid', { name: 'service_id' })
  serviceId!: string;

  @Column('text')
  description!: string;

  @Column('text')
  status!: string;

  @Column('uuid', { name: 'accepted_offer_id', nullable: true })
  acceptedOfferId!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/** OfferRow is a row of `offers`. */
@Entity({ name: 'offers' })
export class OfferRow {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'order_id' })
  orderId!: string;

  @Column('uuid', { name: 'provider_id' })
  providerId!: string;

  @Column('integer', { name: 'price_cents' })
  priceCents!: number;

  @Column('char', { length: 3 })
  currency!: string;

  @Column('text', { nullable: true })
  message!: string | null;

  @Column('text')
  status!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
