# smbdrs-kind: ours
# smbdrs-timeout: 1500
# Hostile MS-SMBD peers over soft-iWARP (siw), tools/smbd-hostile (issue 12): every
# client case of its catalogue against ksmbd with our Rust transport (each
# verdict the expected one, the rule named in the kernel log, no
# connection left, then an honest mount with verified I/O and a clean
# unload), every server case against our Rust client (each mount fails
# within 60 s naming the rule, then a real mount and a clean unload). The
# same against upstream's C server and client is hostile-c-siw (upstream
# code only: its C client warns on one case). Documentation/hostile.md
# has the catalogue and the results. --set hostile_random=N --set
# hostile_seed=N.
. /smbdrs/lib.sh
. /smbdrs/interop.sh
. /smbdrs/hostile.sh
part hostile-rs-server-siw hostile_server_side rs_srv_ siw rust
part hostile-rs-client-siw hostile_client_side rs_cli_ siw rust
