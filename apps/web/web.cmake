# The web page (apps/web/*.html, *.js, *.css) compiled into the agentrt program; included by apps/CMakeLists.txt
# after the agentrt_apps target exists. apps/server/web_routes.cpp serves them by name.
set(AGENTRT_WEB_FILES app.js index.html style.css)
list(TRANSFORM AGENTRT_WEB_FILES PREPEND ${CMAKE_CURRENT_LIST_DIR}/)
set(AGENTRT_WEB_CPP ${CMAKE_CURRENT_BINARY_DIR}/web_embedded.cpp)
add_custom_command(
  OUTPUT ${AGENTRT_WEB_CPP}
  COMMAND ${CMAKE_COMMAND} -DOUT=${AGENTRT_WEB_CPP} -DROOT=${CMAKE_CURRENT_LIST_DIR}
          -DNAMESPACE=agentrt::server::web_detail -DTABLE=kWebFiles
          "-DFILES=${AGENTRT_WEB_FILES}" -P ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
  DEPENDS ${AGENTRT_WEB_FILES} ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
  COMMENT "Embedding apps/web/"
  VERBATIM)
target_sources(agentrt_apps PRIVATE ${AGENTRT_WEB_CPP})
