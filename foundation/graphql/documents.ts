import { GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';

/**
 * CheckedDocuments parses and validates each distinct document once and keeps
 * the result, for a subgraph's subscriptions: every subscription the gateway
 * opens for one field sends the same text, and without it each of thousands
 * of live subscriptions held a parse tree of its own (tokens, locations and
 * strings, about 10 KB each in the chat subgraph; docs/performance.md, lever
 * 12). At most `size` documents are kept, the oldest dropped first; a
 * document that does not parse or validate is not kept.
 */
export class CheckedDocuments {
  private readonly documents = new Map<string, DocumentNode>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly size = 100,
  ) {}

  /** get gives the document of a text, parsed and validated, or why it is not one. */
  get(text: string): DocumentNode | readonly GraphQLError[] {
    const known = this.documents.get(text);
    if (known) return known;
    let document: DocumentNode;
    try {
      document = parse(text);
    } catch (err) {
      if (err instanceof GraphQLError) return [err];
      throw err;
    }
    const errors = validate(this.schema, document);
    if (errors.length > 0) return errors;
    if (this.documents.size >= this.size) this.documents.delete(this.documents.keys().next().value!);
    this.documents.set(text, document);
    return document;
  }
}
