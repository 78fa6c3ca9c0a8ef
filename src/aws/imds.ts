/**
 * The region from the EC2 instance metadata service (IMDSv2: token, then
 * placement/region), as the original auto-detected it when --region is not
 * given. Short timeouts: off EC2 the address does not answer.
 */
const IMDS = 'http://169.254.169.254';

export async function regionFromImds(timeoutMs = 2000): Promise<string | null> {
  try {
    const token = await (await fetch(`${IMDS}/latest/api/token`, { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' }, signal: AbortSignal.timeout(timeoutMs) })).text();
    const r = await fetch(`${IMDS}/latest/meta-data/placement/region`, { headers: { 'x-aws-ec2-metadata-token': token }, signal: AbortSignal.timeout(timeoutMs) });
    if (!r.ok) return null;
    const region = (await r.text()).trim();
    return /^[a-z]{2}(-[a-z]+)+-\d$/.test(region) ? region : null;
  } catch {
    return null;
  }
}
