import { Identity1763884800000 } from './1763884800000-identity';
import { Audit1763971200000 } from './1763971200000-audit';
import { ApiClients1764057600000 } from './1764057600000-api-clients';
import { ThreatIntel1764144000000 } from './1764144000000-threat-intel';
import { NetworkBtree1764230400000 } from './1764230400000-network-btree';
import { AuditChainAnchor1764316800000 } from './1764316800000-audit-chain-anchor';
import { AuthLockouts1764403200000 } from './1764403200000-auth-lockouts';
import { Feeds1764576000000 } from './1764576000000-feeds';
import { Sharing1764662400000 } from './1764662400000-sharing';
import { SearchKeyFeed1764748800000 } from './1764748800000-search-key-feed';
import { Detections1764835200000 } from './1764835200000-detections';
import { DetectionsLighterWrites1765008000000 } from './1765008000000-detections-lighter-writes';
import { SiemRelpTransport1765180800000 } from './1765180800000-siem-relp-transport';
import { Tenants1765353600000 } from './1765353600000-tenants';
import { SharedSuppliers1765526400000 } from './1765526400000-shared-suppliers';
import { PlansUnderRls1765699200000 } from './1765699200000-plans-under-rls';
import { UserSessions1765872000000 } from './1765872000000-user-sessions';

/** Every migration, in order. New migrations are appended here. */
export const migrations = [
  Identity1763884800000,
  Audit1763971200000,
  ApiClients1764057600000,
  ThreatIntel1764144000000,
  NetworkBtree1764230400000,
  AuditChainAnchor1764316800000,
  AuthLockouts1764403200000,
  Feeds1764576000000,
  Sharing1764662400000,
  SearchKeyFeed1764748800000,
  Detections1764835200000,
  DetectionsLighterWrites1765008000000,
  SiemRelpTransport1765180800000,
  Tenants1765353600000,
  SharedSuppliers1765526400000,
  PlansUnderRls1765699200000,
  UserSessions1765872000000,
];
