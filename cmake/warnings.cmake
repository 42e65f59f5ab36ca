# Warnings every Bulwark target compiles with; errors in CI (BULWARK_WERROR).
add_library(bulwark_warnings INTERFACE)
target_compile_options(bulwark_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wnull-dereference -Wformat=2 -Wimplicit-fallthrough)
if(BULWARK_WERROR)
  target_compile_options(bulwark_warnings INTERFACE -Werror)
endif()
