/**
 * Store keys of IPAM records (relative to the store prefix). One function per
 * record kind so the layout lives in one place (DESIGN §2).
 */
export const TOPOLOGY_KEY = 'topology';
export const HOSTS_PREFIX = 'hosts/';
export const BLOCKS_PREFIX = 'blocks/';
export const ADDRESSES_PREFIX = 'addresses/';
export const RESERVATIONS_PREFIX = 'reservations/';

export const hostKey = (name: string): string => `${HOSTS_PREFIX}${name}`;
/** blocks/<network>/<block-cidr>, the CIDR written as "a.b.c.d/p". */
export const blockKey = (network: string, cidr: string): string => `${BLOCKS_PREFIX}${network}/${cidr}`;
export const addressKey = (name: string): string => `${ADDRESSES_PREFIX}${name}`;
export const reservationKey = (network: string, cidr: string): string => `${RESERVATIONS_PREFIX}${network}/${cidr}`;
