// Which live node owns a concert: rendezvous (highest-random-weight) hashing. Every node computes
// the same answer from the same list of live nodes, with no coordination; each node wins about
// 1/N of the concerts, and when a node leaves only its own concerts move (each to the node that
// scored second for it), when one joins it takes only the concerts it now scores highest for.
import { createHash } from "node:crypto";

/** The weight of `nodeId` for `concertId`: the first 64 bits of sha256("nodeId:concertId"). */
function weight(nodeId: string, concertId: number): bigint {
  return createHash("sha256").update(`${nodeId}:${concertId}`).digest().readBigUInt64BE(0);
}

/** The node that owns `concertId` (0: the site room) among `nodeIds`; undefined when there is none. */
export function ownerOf(concertId: number, nodeIds: readonly string[]): string | undefined {
  let owner: string | undefined;
  let best = -1n;
  for (const nodeId of nodeIds) {
    const score = weight(nodeId, concertId);
    // Equal weights (practically never) go to the smaller id, so the answer does not depend on the order.
    if (score > best || (score === best && owner !== undefined && nodeId < owner)) {
      owner = nodeId;
      best = score;
    }
  }
  return owner;
}
