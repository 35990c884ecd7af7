# Finds the C++ headers and shared libraries shipped inside the pinned tensorflow-cpu wheel
# installed in the project's virtual environment (scripts/setup.sh creates it).
#
# Asks that venv's Python for tf.sysconfig.get_include()/get_lib()/get_compile_flags(), so the
# ABI flag, language standard and Eigen alignment match how the wheel itself was compiled.
#
# Defines the IMPORTED targets
#   TensorFlow::framework  libtensorflow_framework.so.2 (Session, Tensor, kernels)
#   TensorFlow::cc         libtensorflow_cc.so.2 (Scope, ops::*, gradients, C API)
#   TensorFlow::TensorFlow both, with the wheel's headers and compile definitions.
# The build RPATH points into the wheel, so binaries run without LD_LIBRARY_PATH.

set(ALEXNET_VENV "${PROJECT_SOURCE_DIR}/.venv" CACHE PATH "Virtual environment holding the tensorflow-cpu wheel")
set(_tf_python "${ALEXNET_VENV}/bin/python")
set(_tf_hint "Run: bash scripts/setup.sh  (installs tensorflow-cpu==2.21.0 into ${ALEXNET_VENV})")

if(NOT EXISTS "${_tf_python}")
  message(FATAL_ERROR "TensorFlow: no virtual environment at ${ALEXNET_VENV}. ${_tf_hint}")
endif()

execute_process(
  COMMAND "${_tf_python}" -c
    "import os; os.environ['TF_CPP_MIN_LOG_LEVEL']='3'; import tensorflow as tf, sys; \
     sys.stdout.write(';'.join([tf.__version__, tf.sysconfig.get_include(), tf.sysconfig.get_lib(), \
                                ' '.join(tf.sysconfig.get_compile_flags())]))"
  OUTPUT_VARIABLE _tf_out
  ERROR_VARIABLE _tf_err
  RESULT_VARIABLE _tf_rc)
if(NOT _tf_rc EQUAL 0)
  message(FATAL_ERROR "TensorFlow: 'import tensorflow' failed in ${_tf_python}. ${_tf_hint}\n${_tf_err}")
endif()
list(GET _tf_out 0 TensorFlowWheel_VERSION)
list(GET _tf_out 1 TensorFlowWheel_INCLUDE_DIR)
list(GET _tf_out 2 TensorFlowWheel_LIB_DIR)
list(GET _tf_out 3 _tf_cflags)
separate_arguments(_tf_cflags UNIX_COMMAND "${_tf_cflags}")

set(_tf_defs "")
foreach(flag IN LISTS _tf_cflags)
  if(flag MATCHES "^-D(.+)$")
    list(APPEND _tf_defs "${CMAKE_MATCH_1}")
  elseif(flag MATCHES "^-?-std=c\\+\\+([0-9]+)$")
    if(CMAKE_CXX_STANDARD LESS CMAKE_MATCH_1)
      message(FATAL_ERROR "TensorFlow wheel needs C++${CMAKE_MATCH_1}, project uses C++${CMAKE_CXX_STANDARD}")
    endif()
  endif()
endforeach()

find_file(TensorFlowWheel_CC_LIBRARY libtensorflow_cc.so.2 PATHS "${TensorFlowWheel_LIB_DIR}" NO_DEFAULT_PATH)
find_file(TensorFlowWheel_FRAMEWORK_LIBRARY libtensorflow_framework.so.2
  PATHS "${TensorFlowWheel_LIB_DIR}" NO_DEFAULT_PATH)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(TensorFlowWheel
  REQUIRED_VARS TensorFlowWheel_CC_LIBRARY TensorFlowWheel_FRAMEWORK_LIBRARY TensorFlowWheel_INCLUDE_DIR
  VERSION_VAR TensorFlowWheel_VERSION
  REASON_FAILURE_MESSAGE "${_tf_hint}")

if(TensorFlowWheel_FOUND AND NOT TARGET TensorFlow::TensorFlow)
  add_library(TensorFlow::framework SHARED IMPORTED)
  set_target_properties(TensorFlow::framework PROPERTIES
    IMPORTED_LOCATION "${TensorFlowWheel_FRAMEWORK_LIBRARY}"
    IMPORTED_NO_SONAME FALSE)
  add_library(TensorFlow::cc SHARED IMPORTED)
  set_target_properties(TensorFlow::cc PROPERTIES IMPORTED_LOCATION "${TensorFlowWheel_CC_LIBRARY}")
  add_library(TensorFlow::TensorFlow INTERFACE IMPORTED)
  # SYSTEM include: warnings inside TensorFlow's, absl's, protobuf's and Eigen's headers are not ours.
  set_target_properties(TensorFlow::TensorFlow PROPERTIES
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${TensorFlowWheel_INCLUDE_DIR}"
    INTERFACE_INCLUDE_DIRECTORIES "${TensorFlowWheel_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS "${_tf_defs}"
    INTERFACE_LINK_LIBRARIES "TensorFlow::cc;TensorFlow::framework")
  set(CMAKE_BUILD_RPATH "${CMAKE_BUILD_RPATH};${TensorFlowWheel_LIB_DIR}")
  set(CMAKE_INSTALL_RPATH "${CMAKE_INSTALL_RPATH};${TensorFlowWheel_LIB_DIR}")
  message(STATUS "TensorFlow ${TensorFlowWheel_VERSION} from ${TensorFlowWheel_LIB_DIR}")
endif()
