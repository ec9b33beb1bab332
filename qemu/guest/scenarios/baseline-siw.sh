# smbdrs-kind: upstream
# smbdrs-timeout: 900
# Baseline: upstream C cifs client and C ksmbd over soft-iWARP (siw); ksmbd
# listens on 5445 when an iWARP device exists, the client tries 5445 first.
. /smbdrs/lib.sh
smb_baseline siw
