# The Debian package: `cpack -G DEB` in a build tree (scripts/package builds
# Release and runs it; scripts/check-package lints and install-tests it).
#
# `cmake --install` installs the plain tree (binary, man pages, completions,
# examples, docs). What only a Debian package has is added to CPack's staging
# tree by packaging/stage.cmake: gzipped man pages and changelog, the DEP-5
# copyright, /etc/iotxmpp/config.toml (a conffile) and the systemd unit,
# running as the system user that packaging/postinst creates.
set(CPACK_PACKAGE_NAME iotxmpp)
set(CPACK_PACKAGE_VENDOR "iotxmpp")
set(CPACK_PACKAGE_CONTACT "iotxmpp maintainers <maintainers@iotxmpp.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "XMPP telemetry server and tools for IoT room devices")
# Debian's extended description: lines under 80 columns, paragraphs split by
# a line holding a single dot (CPack adds the leading space).
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "Room devices report temperature, humidity and brightness over a strict
subset of XMPP that stock client libraries speak. The server stores every
report in SQLite or MySQL/MariaDB, acknowledges only what is committed and
answers recommendation queries.
.
One binary with the subcommands serve, db-init, reap, device, send, query,
tail and simulate. The systemd unit iotxmpp.service is installed but not
enabled; it runs as the system user iotxmpp and reads
/etc/iotxmpp/config.toml.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# postinst runs adduser; shlibdeps adds the libraries' packages after it.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "mariadb-server, bash-completion")
set(CPACK_STRIP_FILES ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
  OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/packaging/conffiles
  ${PROJECT_SOURCE_DIR}/packaging/postinst
  ${PROJECT_SOURCE_DIR}/packaging/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Read by packaging/stage.cmake (CPack passes every CPACK_ variable on).
set(CPACK_IOTXMPP_SOURCE_DIR ${PROJECT_SOURCE_DIR})
set(CPACK_PRE_BUILD_SCRIPTS ${PROJECT_SOURCE_DIR}/packaging/stage.cmake)
include(CPack)
