/** A piece of a rendered example: its text and whether its tokens count in the loss. */
export interface Segment {
  text: string;
  train: boolean;
}
