# Compiler and linker hardening for every target (tests/unit/hardening_test.cc reads the
# built binary and the compile commands to prove each one is in effect).
include(CheckPIESupported)
check_pie_supported()
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
add_compile_options(-fstack-protector-strong -fstack-clash-protection -fcf-protection)
if(NOT BULWARK_FUZZ)
  # ASan replaces the fortified libc entry points; fortify only the real builds.
  add_compile_options(-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3)
endif()
add_link_options(-Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack)
