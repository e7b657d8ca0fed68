# CPack pre-build script (CPACK_PRE_BUILD_SCRIPTS, see cmake/Packaging.cmake):
# turns the staged `cmake --install` tree into a Debian-shaped one before
# CPack's DEB generator archives it. Runs only for the DEB generator.
if(NOT CPACK_GENERATOR STREQUAL "DEB")
  return()
endif()
set(root "${CPACK_TEMPORARY_DIRECTORY}")
set(src "${CPACK_IOTXMPP_SOURCE_DIR}")
set(doc "${root}/usr/share/doc/iotxmpp")
if(NOT IS_DIRECTORY "${doc}" OR NOT EXISTS "${root}/usr/bin/iotxmpp")
  message(FATAL_ERROR "packaging/stage.cmake: no staged /usr tree under ${root}")
endif()

# gzip -9n: maximum compression and no name or time stamp in the header, so
# the package is reproducible (lintian checks both).
function(gzip_to in out)
  execute_process(COMMAND gzip -9nc "${in}" OUTPUT_FILE "${out}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "gzip ${in}: ${rc}")
  endif()
  file(CHMOD "${out}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endfunction()

# Man pages, gzipped in place.
file(GLOB pages "${root}/usr/share/man/man*/*.[1-9]")
if(NOT pages)
  message(FATAL_ERROR "packaging/stage.cmake: no man pages staged")
endif()
foreach(page IN LISTS pages)
  gzip_to("${page}" "${page}.gz")
  file(REMOVE "${page}")
endforeach()

# The DEP-5 copyright (plain) and the changelog (a native package: changelog.gz).
file(COPY_FILE "${src}/packaging/copyright" "${doc}/copyright")
file(CHMOD "${doc}/copyright" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
gzip_to("${src}/packaging/changelog" "${doc}/changelog.gz")

# The configuration, a conffile (packaging/conffiles names it).
file(MAKE_DIRECTORY "${root}/etc/iotxmpp")
file(COPY_FILE "${src}/examples/config.toml" "${root}/etc/iotxmpp/config.toml")
file(CHMOD "${root}/etc/iotxmpp/config.toml" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# The unit: examples/iotxmpp.service, but as the system user postinst creates
# instead of a DynamicUser (a fixed owner for the state directory and for
# files an operator hands the service, such as a TLS key).
file(READ "${src}/examples/iotxmpp.service" unit)
string(REGEX MATCHALL "\nDynamicUser=yes\n" found "${unit}")
list(LENGTH found n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "examples/iotxmpp.service: expected one 'DynamicUser=yes' line to replace")
endif()
string(REPLACE "\nDynamicUser=yes\n" "\nUser=iotxmpp\nGroup=iotxmpp\n" unit "${unit}")
string(REGEX REPLACE "\n# Install: cp iotxmpp.service [^\n]*\n"
  "\n# Installed by the iotxmpp package, not enabled: systemctl enable --now iotxmpp\n"
  unit "${unit}")
string(REPLACE "# Sandboxing: a throwaway user," "# Sandboxing: the iotxmpp system user," unit "${unit}")
file(MAKE_DIRECTORY "${root}/usr/lib/systemd/system")
file(WRITE "${root}/usr/lib/systemd/system/iotxmpp.service" "${unit}")
file(CHMOD "${root}/usr/lib/systemd/system/iotxmpp.service"
  PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# CPACK_STRIP_FILES ran a plain `strip`; like dh_strip, drop the .comment and
# .note sections too (the build id, .note.gnu.build-id, stays).
execute_process(COMMAND strip --remove-section=.comment --remove-section=.note
  "${root}/usr/bin/iotxmpp" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "strip ${root}/usr/bin/iotxmpp: ${rc}")
endif()

# Lintian overrides, each with its reason (packaging/lintian-overrides).
file(MAKE_DIRECTORY "${root}/usr/share/lintian/overrides")
file(COPY_FILE "${src}/packaging/lintian-overrides" "${root}/usr/share/lintian/overrides/iotxmpp")
file(CHMOD "${root}/usr/share/lintian/overrides/iotxmpp"
  PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
