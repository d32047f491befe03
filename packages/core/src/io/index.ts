export {
  parseSafetensors, loadSafetensors, loadSafetensorsWithMetadata, serializeSafetensors, saveSafetensors, decodeEntry, float16ToNumber, MAX_HEADER_BYTES,
  type SafetensorsEntry, type ParsedSafetensors, type HostTensor, type SafetensorsDType,
} from './safetensors';
