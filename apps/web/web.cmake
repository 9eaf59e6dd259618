# The web page (apps/web/*.html, *.js, *.css) compiled into the agentrt program; included by apps/CMakeLists.txt
# after the agentrt_apps target exists. apps/server/web_assets.cpp looks the files up by name.
file(GLOB AGENTRT_WEB_FILES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.html ${CMAKE_CURRENT_LIST_DIR}/*.js
  ${CMAKE_CURRENT_LIST_DIR}/*.css)
set(AGENTRT_WEB_CPP ${CMAKE_CURRENT_BINARY_DIR}/web_embedded.cpp)
add_custom_command(
  OUTPUT ${AGENTRT_WEB_CPP}
  COMMAND ${CMAKE_COMMAND} -DOUT=${AGENTRT_WEB_CPP} -DROOT=${CMAKE_CURRENT_LIST_DIR}
          "-DFILES=${AGENTRT_WEB_FILES}" -P ${CMAKE_CURRENT_LIST_DIR}/embed_web.cmake
  DEPENDS ${AGENTRT_WEB_FILES} ${CMAKE_CURRENT_LIST_DIR}/embed_web.cmake
  COMMENT "Embedding apps/web/"
  VERBATIM)
target_sources(agentrt_apps PRIVATE ${AGENTRT_WEB_CPP})
