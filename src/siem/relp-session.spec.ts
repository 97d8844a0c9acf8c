import { encodeFrame, parseFrame } from './relp-session';

describe('RELP framing', () => {
  it('encodes a command with data, and one without (no separator before LF)', () => {
    expect(encodeFrame(7, 'syslog', '<109>1 x').toString()).toBe('7 syslog 8 <109>1 x\n');
    expect(encodeFrame(8, 'close', '').toString()).toBe('8 close 0\n');
    expect(encodeFrame(1, 'syslog', 'é').toString()).toBe('1 syslog 2 é\n');
  });

  it('parses what it encodes, and waits for the rest of a frame cut short', () => {
    const frame = encodeFrame(3, 'rsp', '200 OK\ncommands=syslog');
    expect(parseFrame(Buffer.concat([frame, Buffer.from('4 rsp')]))).toEqual({
      frame: { txnr: 3, command: 'rsp', data: '200 OK\ncommands=syslog' },
      size: frame.length,
    });
    expect(parseFrame(frame.subarray(0, frame.length - 1))).toBeUndefined();
    expect(parseFrame(Buffer.from('12 rs'))).toBeUndefined();
    expect(parseFrame(Buffer.from('5 rsp 0\n'))).toEqual({
      frame: { txnr: 5, command: 'rsp', data: '' },
      size: 8,
    });
  });

  it.each([
    ['not a header', 'HTTP/1.1 400 Bad Request\r\n', /malformed RELP frame header/],
    ['data without LF', '1 rsp 3 200X', /does not end in LF/],
    ['length 0 with data', '1 rsp 0 x\n', /malformed RELP frame header/],
    ['an oversized answer', '1 rsp 999999 ', /too large/],
  ])('refuses %s', (_what, bytes, error) => {
    expect(() => parseFrame(Buffer.from(bytes))).toThrow(error);
  });
});
