# smbdrs-kind: upstream
# smbdrs-timeout: 1200
# tools/smbd-hostile's catalogue over soft-iWARP (siw) against upstream's C SMB
# Direct server (ksmbd rdma_impl=c) and C client (rdma_impl=c), recorded
# as notes and metrics (*_cases_unexpected), not asserted: the baseline
# beside hostile-siw, which asserts our Rust transports. Upstream code
# only (smbdirect_rs is never loaded), so an upstream report is recorded
# as upstream-fail: 6.12's C client, refusing a negotiate response,
# leaks its receive buffers and may use its freed workqueue and hang, so
# those cases are skipped (Documentation/hostile.md, hostile_c_skip).
. /smbdrs/lib.sh
. /smbdrs/interop.sh
. /smbdrs/hostile.sh
part hostile-c-server-siw hostile_server_side c_srv_ siw c
part hostile-c-client-siw hostile_client_side c_cli_ siw c
