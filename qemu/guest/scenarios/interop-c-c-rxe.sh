# smbdrs-kind: upstream
# smbdrs-timeout: 900
# Interop matrix cell c-c (the baseline): upstream's C client (rdma_impl=c)
# and upstream's C ksmbd (rdma_impl=c) over soft-RoCE (rxe), then the same over
# TCP. smbdirect_rs is not loaded.
. /smbdrs/lib.sh
smb_baseline rxe
