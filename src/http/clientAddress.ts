// The client's address for per-address limits: the TCP peer, or behind a trusted proxy the
// rightmost X-Forwarded-For entry (the one the proxy itself added; entries to its left are the
// client's to forge).

/** Anything with uWS's getRemoteAddressAsText: an HttpResponse (HTTP and WebSocket upgrades). */
interface Peer {
  getRemoteAddressAsText(): ArrayBuffer;
}

export function clientAddress(peer: Peer, forwardedFor: string, trustProxy: boolean): string {
  if (trustProxy && forwardedFor.length > 0) {
    const rightmost = forwardedFor.slice(forwardedFor.lastIndexOf(",") + 1).trim();
    // Bounded, since it keys a table: no address is longer than 45 characters (IPv6 with IPv4 tail).
    if (rightmost.length > 0) return rightmost.slice(0, 64);
  }
  return Buffer.from(peer.getRemoteAddressAsText()).toString("latin1");
}
