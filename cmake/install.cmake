# Installed package: find_package(aiocpp CONFIG) and pkg-config (aiocpp.pc).
include(CMakePackageConfigHelpers)
set(_aio_installed aio_core aio_aio)
if(TARGET aio_net)
  list(APPEND _aio_installed aio_net)
endif()
install(TARGETS ${_aio_installed} EXPORT aiocppTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/aio DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/include/aio/config.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/aio)
install(EXPORT aiocppTargets NAMESPACE aio:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/aiocpp)
configure_package_config_file(cmake/aiocppConfig.cmake.in ${PROJECT_BINARY_DIR}/aiocppConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/aiocpp)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/aiocppConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/aiocppConfig.cmake ${PROJECT_BINARY_DIR}/aiocppConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/aiocpp)
if(TARGET aio_net)
  set(AIOCPP_PC_LIBS "-laiocpp_net")
  set(AIOCPP_PC_REQUIRES "libcares libssl libcrypto")
endif()
configure_file(cmake/aiocpp.pc.in ${PROJECT_BINARY_DIR}/aiocpp.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/aiocpp.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
