# Generates pbe_version.h with the project version and the git revision at configure time.
find_package(Git QUIET)
set(PBE_GIT_REVISION "unknown")
if(GIT_FOUND AND EXISTS "${PROJECT_SOURCE_DIR}/.git")
  execute_process(COMMAND ${GIT_EXECUTABLE} describe --always --dirty --abbrev=12
                  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
                  OUTPUT_VARIABLE PBE_GIT_REVISION OUTPUT_STRIP_TRAILING_WHITESPACE
                  ERROR_QUIET)
  if(NOT PBE_GIT_REVISION)
    set(PBE_GIT_REVISION "unknown")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
               "${PROJECT_SOURCE_DIR}/.git/HEAD" "${PROJECT_SOURCE_DIR}/.git/index")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/pbe_version.h.in
               ${PROJECT_BINARY_DIR}/generated/pbe_version.h @ONLY)
