import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM envelope for credential records. The key id lets a rotated data key coexist with the
 * old ones; the associated data binds a ciphertext to its (serviceId, credentialId), so a record
 * copied under another name fails to decrypt instead of handing one service another's mailbox.
 */
export interface DataKey {
  id: string;
  key: Buffer;
}

interface Envelope {
  v: 1;
  alg: 'A256GCM';
  kid: string;
  iv: string;
  ct: string;
  tag: string;
}

/** The record cannot be opened: unknown key id, wrong binding, tampering or a foreign format. */
export class RecordUnreadableError extends Error {
  override name = 'RecordUnreadableError' as const;
  readonly keyId: string | undefined;
  constructor(message: string, keyId?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.keyId = keyId;
  }
}

export function seal(plaintext: string, aad: string, key: DataKey): string {
  if (key.key.length !== 32) throw new Error('data keys are 32 bytes (AES-256)');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const envelope: Envelope = {
    v: 1,
    alg: 'A256GCM',
    kid: key.id,
    iv: iv.toString('base64url'),
    ct: ct.toString('base64url'),
    tag: cipher.getAuthTag().toString('base64url'),
  };
  return JSON.stringify(envelope);
}

/** The key id an envelope was sealed with, without opening it. */
export function envelopeKeyId(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<Envelope>;
    return typeof parsed.kid === 'string' ? parsed.kid : undefined;
  } catch {
    return undefined;
  }
}

export async function open(
  text: string,
  aad: string,
  findKey: (id: string) => Promise<DataKey | undefined>,
): Promise<string> {
  let envelope: Envelope;
  try {
    envelope = JSON.parse(text) as Envelope;
  } catch (error) {
    throw new RecordUnreadableError('the stored value is not an envelope', undefined, {
      cause: error,
    });
  }
  if (envelope?.v !== 1 || envelope.alg !== 'A256GCM' || typeof envelope.kid !== 'string') {
    throw new RecordUnreadableError('the stored value is not a v1 A256GCM envelope');
  }
  const key = await findKey(envelope.kid);
  if (!key) throw new RecordUnreadableError(`data key ${envelope.kid} is not known`, envelope.kid);
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      key.key,
      Buffer.from(envelope.iv, 'base64url'),
      // Without it a truncated tag (as short as 4 bytes) would be accepted.
      { authTagLength: 16 },
    );
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(envelope.tag, 'base64url'));
    return Buffer.concat([
      decipher.update(Buffer.from(envelope.ct, 'base64url')),
      decipher.final(),
    ]).toString('utf8');
  } catch (error) {
    throw new RecordUnreadableError(
      'the record failed authentication (tampered, or stored under another name)',
      envelope.kid,
      { cause: error },
    );
  }
}
