import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTransport, type Transporter } from 'nodemailer';

/** MailerOptions: SMTP when smtpUrl is set, otherwise one .eml file per message in dir. */
export interface MailerOptions {
  from: string;
  smtpUrl?: string;
  dir: string;
}

/**
 * EmailSender sends mail through one transport: SMTP (nodemailer) in
 * production, or in development an RFC 822 `.eml` file per message that any
 * mail client opens, so links can be followed without a mail server.
 */
export class EmailSender {
  private readonly transport: Transporter;

  constructor(private readonly options: MailerOptions) {
    this.transport = options.smtpUrl
      ? createTransport(options.smtpUrl)
      : createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  }

  /** send delivers one plain-text message. */
  async send(message: { to: string; subject: string; text: string }): Promise<void> {
    const info = await this.transport.sendMail({ from: this.options.from, ...message });
    if (this.options.smtpUrl) return;
    await mkdir(this.options.dir, { recursive: true });
    const safeTo = message.to.replace(/[^a-z0-9@._-]/gi, '_');
    const file = join(
      this.options.dir,
      `${new Date().toISOString().replace(/[:.]/g, '-')}-${safeTo}-${info.messageId.replace(/[^a-z0-9]/gi, '').slice(0, 12)}.eml`,
    );
    // Written aside and renamed, so that a reader never sees half a message.
    await writeFile(`${file}.partial`, (info as unknown as { message: Buffer }).message);
    await rename(`${file}.partial`, file);
  }
}
