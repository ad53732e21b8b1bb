/**
 * KeptRows keeps rows that never change once made, by id, up to a bound (the first kept go first): the catalog's
 * services and categories, on which the runtime role holds only SELECT and INSERT (migration
 * catalog/1764633600000), and chat's conversations, whose runtime role may update only a conversation's last position
 * (migration chat/1764979200000), which is not kept. Each read gets copies: what reads them may add to them
 * (@apollo/subgraph writes `__typename` on the objects it resolves).
 */
export class KeptRows<T extends { id: string }> {
  private readonly rows = new Map<string, T>();

  constructor(private readonly max: number) {}

  async byIds(ids: readonly string[], load: (ids: readonly string[]) => Promise<T[]>): Promise<T[]> {
    if (this.max === 0) return load(ids);
    const found: T[] = [];
    const missing: string[] = [];
    for (const id of ids) {
      const row = this.rows.get(id);
      if (row) found.push({ ...row });
      else missing.push(id);
    }
    if (missing.length === 0) return found;
    const loaded = await load(missing);
    for (const row of loaded) {
      if (this.rows.size >= this.max) this.rows.delete(this.rows.keys().next().value!);
      this.rows.set(row.id, { ...row });
    }
    return found.concat(loaded);
  }
}
