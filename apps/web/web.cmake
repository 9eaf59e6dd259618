# The web page (apps/web/*.html, *.js, *.css) compiled into the agentrt program; included by apps/CMakeLists.txt
# after the agentrt_apps target exists. apps/server/web_assets.cpp looks the files up by name.
file(GLOB AGENTRT_WEB_FILES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.html ${CMAKE_CURRENT_LIST_DIR}/*.js
  ${CMAKE_CURRENT_LIST_DIR}/*.css)
set(AGENTRT_WEB_CPP ${CMAKE_CURRENT_BINARY_DIR}/web_embedded.cpp)
add_custom_command(
  OUTPUT ${AGENTRT_WEB_CPP}
  COMMAND ${CMAKE_COMMAND} -DOUT=${AGENTRT_WEB_CPP} -DROOT=${CMAKE_CURRENT_LIST_DIR}
          -DNAMESPACE=agentrt::server::web_detail -DSTRUCT=WebFile -DTABLE=kWebFiles -DCOUNT=kWebFileCount
          "-DFILES=${AGENTRT_WEB_FILES}" -P ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
  DEPENDS ${AGENTRT_WEB_FILES} ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
  COMMENT "Embedding apps/web/"
  VERBATIM)
target_sources(agentrt_apps PRIVATE ${AGENTRT_WEB_CPP})
