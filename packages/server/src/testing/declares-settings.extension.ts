/** A stand-in extension for config tests: all it does is declare the settings it reads. */
export const settings: string[] = ['EMS_WIDGETS_COLOUR'];
