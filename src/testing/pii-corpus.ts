// Realistic PII values for the redaction tests and for integration tests that push them through the gateway and
// grep the database and logs. `value` is exactly what must disappear; for cards and IBANs written with separators
// the separator-free form must not appear either (redaction replaces the whole match, never part of it).
import type { DetectorName } from '../monitoring/privacy/redact.js';

export interface PiiSample {
  kind: DetectorName;
  value: string;
  /** A sentence containing `value` once, which redaction must turn into the sentence with the token in its place. */
  embedded: string;
}

export const PII_CORPUS: readonly PiiSample[] = [
  { kind: 'email', value: 'jane.doe@example.com', embedded: 'Please reply to jane.doe@example.com, thanks.' },
  { kind: 'email', value: 'j.smith+billing@mail.example.co.uk', embedded: 'Invoice sent to <j.smith+billing@mail.example.co.uk> yesterday' },
  { kind: 'email', value: 'user_42@sub-domain.example.org', embedded: 'login=user_42@sub-domain.example.org;role=admin' },
  { kind: 'email', value: 'ALICE.W@Example.COM', embedded: 'From: "Alice W" ALICE.W@Example.COM' },
  { kind: 'email', value: 'first.last%ops@corp.example.io', embedded: '(contact first.last%ops@corp.example.io)' },
  { kind: 'email', value: 'm.ng@xn--bcher-kva.example', embedded: 'Customer email:m.ng@xn--bcher-kva.example.' },

  { kind: 'phone', value: '+1 (555) 123-4567', embedded: 'Reach me on +1 (555) 123-4567 or by email' },
  { kind: 'phone', value: '+44 20 7946 0958', embedded: 'Office: +44 20 7946 0958 (London)' },
  { kind: 'phone', value: '+49-30-901820', embedded: 'Rückruf unter +49-30-901820 bitte' },
  { kind: 'phone', value: '+33 1 23 45 67 89', embedded: 'Appelez le +33 1 23 45 67 89 demain.' },
  { kind: 'phone', value: '+81.3.1234.5678', embedded: 'tel +81.3.1234.5678.' },
  { kind: 'phone', value: '+14155552671', embedded: 'sms:+14155552671' },
  { kind: 'phone', value: '(555) 123-4567', embedded: 'Call (555) 123-4567 after 5pm' },
  { kind: 'phone', value: '555-123-4567', embedded: 'cell 555-123-4567, home unknown' },
  { kind: 'phone', value: '555.123.4567', embedded: 'Phone: 555.123.4567.' },
  { kind: 'phone', value: '1-800-555-0199', embedded: 'Toll free 1-800-555-0199 any time' },

  { kind: 'credit_card', value: '4111 1111 1111 1111', embedded: 'Paid with card 4111 1111 1111 1111 exp 12/29' },
  { kind: 'credit_card', value: '5500-0000-0000-0004', embedded: 'Card number: 5500-0000-0000-0004.' },
  { kind: 'credit_card', value: '378282246310005', embedded: 'amex=378282246310005&cvv=1234' },
  { kind: 'credit_card', value: '3782 822463 10005', embedded: 'Amex 3782 822463 10005 on file' },
  { kind: 'credit_card', value: '6011 1111 1111 1117', embedded: 'Discover (6011 1111 1111 1117) declined' },
  { kind: 'credit_card', value: '3530-1113-3330-0000', embedded: 'JCB card 3530-1113-3330-0000 was used' },
  { kind: 'credit_card', value: '4012888888881881', embedded: 'pan:4012888888881881' },
  { kind: 'credit_card', value: '2223003122003222', embedded: 'New Mastercard 2223003122003222 issued' },
  { kind: 'credit_card', value: '4222222222222', embedded: 'Old 13-digit Visa 4222222222222 still valid' },

  { kind: 'iban', value: 'GB82 WEST 1234 5698 7654 32', embedded: 'Pay to GB82 WEST 1234 5698 7654 32 by Friday' },
  { kind: 'iban', value: 'DE89370400440532013000', embedded: 'IBAN:DE89370400440532013000.' },
  { kind: 'iban', value: 'DE89 3704 0044 0532 0130 00', embedded: 'Konto DE89 3704 0044 0532 0130 00 (Commerzbank)' },
  { kind: 'iban', value: 'FR14 2004 1010 0505 0001 3M02 606', embedded: 'RIB FR14 2004 1010 0505 0001 3M02 606 fourni' },
  { kind: 'iban', value: 'NL91ABNA0417164300', embedded: 'Rekening NL91ABNA0417164300 van de klant' },
  { kind: 'iban', value: 'ES91 2100 0418 4502 0005 1332', embedded: 'Cuenta ES91 2100 0418 4502 0005 1332, titular desconocido' },
  { kind: 'iban', value: 'BE68 5390 0754 7034', embedded: 'Refund BE68 5390 0754 7034 from Bob' },
  { kind: 'iban', value: 'CH9300762011623852957', embedded: 'CH9300762011623852957 is the Swiss account' },
  { kind: 'iban', value: 'NO9386011117947', embedded: 'konto NO9386011117947' },

  { kind: 'ip', value: '192.168.1.23', embedded: 'Request from 192.168.1.23.' },
  { kind: 'ip', value: '203.0.113.7', embedded: 'client_ip=203.0.113.7:51234' },
  { kind: 'ip', value: '10.0.0.1', embedded: 'gateway 10.0.0.1/24 is up' },
  { kind: 'ip', value: '2001:db8::8a2e:370:7334', embedded: 'connected from [2001:db8::8a2e:370:7334]:443 at noon' },
  { kind: 'ip', value: '2001:0db8:85a3:0000:0000:8a2e:0370:7334', embedded: 'X-Forwarded-For: 2001:0db8:85a3:0000:0000:8a2e:0370:7334' },
  { kind: 'ip', value: 'fe80::1', embedded: 'Link-local address fe80::1.' },
  { kind: 'ip', value: '::ffff:192.0.2.128', embedded: 'mapped ::ffff:192.0.2.128 seen' },

  { kind: 'ssn', value: '123-45-6789', embedded: 'SSN 123-45-6789 on the form' },
  { kind: 'ssn', value: '078-05-1120', embedded: 'ssn:078-05-1120' },
  { kind: 'ssn', value: '219-09-9999', embedded: 'Social Security number (219-09-9999) verified' },
  { kind: 'ssn', value: '457-55-5462', embedded: 'Applicant SSN-457-55-5462 rejected' },
  { kind: 'ssn', value: '536-22-1234', embedded: 'His number is 536-22-1234.' },
  { kind: 'ssn', value: '001-01-0001', embedded: '"ssn": "001-01-0001"' },
];

/** Values that look numeric or structured but are not PII: redaction must leave every one unchanged. */
export const NOT_PII: readonly string[] = [
  '12.8',
  '-0.000123',
  '3.14159265358979',
  '1e-7',
  '2014',
  '99.9%',
  '1,234,567',
  '+12.5',
  '+1234.5678',
  '-1234567.89',
  '2014-03-01',
  '2014-03-01T10:30:00Z',
  '2014-03-01 10:30:00.123',
  '2014-03-01T10:30:00.123456+05:30',
  '2014.03.01',
  '01/03/2014',
  '10:30',
  '12:30:45',
  '14:05:09.123',
  '1.2.3',
  'v1.2.3.4.5',
  '1.2.3.4.5',
  'version 10.0.0',
  '256.1.1.1',
  '123456789',
  '12345678901234567890',
  '4111 1111 1111 1112',
  '4111111111111112',
  '1234 5678 9012 3456',
  '1393632002000',
  '1393632000006000',
  '20140301103008',
  '0.4111111111111111',
  '666-12-3456',
  '900-12-3456',
  '000-12-3456',
  '123-00-4567',
  '123-45-0000',
  '1-2-3-4',
  'ISBN 978-3-16-148410-0',
  'DE89370400440532013001',
  'GB82 WEST 1234 5698 7654 33',
  'a@b',
  'std::vector<int>',
  'cafe::beef',
  'sun',
  'C3PO',
  'sku-12-3456',
  'lat 51.5074, lon -0.1278',
];
