import nodemailer, { type Transporter } from 'nodemailer';
import type { MailMessage, Mailer } from '../../platform/ports/mailer.js';

/** Email through the SMTP server in SMTP_URL (smtp://user:pass@host:port). */
export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;

  constructor(
    url: string,
    private readonly from: string,
  ) {
    this.transport = nodemailer.createTransport(url);
  }

  async send(message: MailMessage): Promise<void> {
    await this.transport.sendMail({
      from: this.from,
      to: message.to,
      subject: message.subject,
      text: message.text,
    });
  }

  /** Connects and greets the server (and logs in, given credentials); throws when it cannot. */
  async verify(): Promise<void> {
    await this.transport.verify();
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
