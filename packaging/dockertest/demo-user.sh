#!/bin/sh
# demo-user.sh runs inside the demo container ('make demo'): it removes the
# test users, makes USER with a new random password, enrolls USER and shows
# the QR code, then prints the password.
#
# Usage: demo-user.sh USER
set -eu

user=${1:?usage: demo-user.sh USER}

# The test users' passwords and key are in the image: none of them stays.
for u in $(getent group totp-kbd totp-pk totp-sudo | cut -d: -f4 | tr ',' ' '); do
	userdel -r "$u" 2>/dev/null
done

password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
useradd -m -s /bin/bash -G totp-kbd "$user"
echo "$user:$password" | chpasswd

totpctl enroll --no-confirm "$user"
echo
echo "Password of $user: $password"
