# smbdrs-kind: upstream
# smbdrs-timeout: 900
# Baseline: upstream C cifs client and C ksmbd over soft-RoCE (rxe), then the
# same over TCP. None of our code is loaded.
. /smbdrs/lib.sh
smb_baseline rxe
