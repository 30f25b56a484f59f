export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

/** Sends one email; throws when the mail server did not accept it. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
  /** Throws when the mail server cannot be reached (the health check). */
  verify(): Promise<void>;
  close(): Promise<void>;
}
